"""The API's request and response models: Label Studio's JSON, typed, one module per resource.

Request models type the fields Label Studio's serializers know and let unknown fields through (the
services pick what they use); `RequestBody.sent()` is what a route hands to its service. Response models
document what clients read and keep every other field a route returns. Both use Label Studio's field
names, so `/api/openapi.json` describes the API the SDKs already speak.
"""
