"""HTTP edge: the FastAPI app factory and one module per resource."""
