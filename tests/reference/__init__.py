"""An independent brute-force reading of CONTRACTS.md, and the record factories its tests use.

Nothing here imports the engine: the point of a reference is that it was written from the contract
text alone, so that where it and the engine disagree one of them misreads the contract.
"""
