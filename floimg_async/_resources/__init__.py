"""One module per API resource; each turns arguments into requests and answers into models."""
