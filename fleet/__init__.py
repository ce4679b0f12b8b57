"""Fleet service: MQTT ingest, device registry, warranty, rentals, repairs and payments for POS terminals."""

__version__ = "0.1.0"
