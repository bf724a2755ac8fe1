"""The way back from the archive: ``restore`` (objects -> Kafka) and ``audit`` (is it all
there?).  Reads the store the service writes, with the same settings."""
