"""Model servers and training code: one server that speaks both the Label Studio ML-backend contract and
the SageMaker hosting contract, the base model class, built-in models, the training entry point and the
SageMaker deploy helpers. Nothing here runs in the API Lambda."""
