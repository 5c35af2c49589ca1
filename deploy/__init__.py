"""Deployment: docker-compose files, Dockerfiles and the local runner."""
