// Placeholder: filled in by the registry_client work.
