"""labelstack's runtime code: everything that runs inside Lambda (and in `labelstack dev`)."""
