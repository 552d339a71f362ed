"""The dashboard's pages, one module each; Dash imports them and each registers itself
(see :mod:`hrss_fraud.dashboard.app` for the extra ``register_page`` keywords)."""
