"""The CDK app (AWS) and the local stack that emulates it (`labelstack dev`)."""
