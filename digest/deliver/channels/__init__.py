"""Delivery channels (placeholder)."""
