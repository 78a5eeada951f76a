"""Provider adapters: one subpackage per provider, each behind :class:`base.Provider`."""
