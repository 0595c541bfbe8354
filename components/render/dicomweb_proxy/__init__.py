"""The DICOMweb proxy's nginx configuration, one module per concern (see each module's docstring)."""
