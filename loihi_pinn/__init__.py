"""loihi-pinn."""
