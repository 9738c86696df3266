"""The vocabulary every stage shares: the model, findings and rules registry, the input contract, dates and names, safe writing."""
