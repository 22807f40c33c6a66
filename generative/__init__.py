"""The gallery's library: models, data, metrics and Hub loading, shared by demos/ and training/."""
