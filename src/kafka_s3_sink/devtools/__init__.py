"""Developer and test tooling (a real local Kafka broker); not used by the sink at run time."""
