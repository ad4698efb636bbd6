// Placeholder: filled in by the dataset_client work.
