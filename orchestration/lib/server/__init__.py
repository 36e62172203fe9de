"""The shared deployment's PostgreSQL server: roles and row-level security, and a throwaway server for tests."""
