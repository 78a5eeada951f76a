"""The federation core: search model, exact matching, sorting, merging and paging.

Nothing in here imports a provider: providers are reached through
:class:`bridge.core.contract.Provider` only.
"""
