"""HTTP-side protections: Host/Origin guard, authentication."""
