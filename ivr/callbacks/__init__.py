"""Callbacks: pure policy decisions and the worker that places them."""
