"""Pure cores: state machines with no I/O, fed with messages and ``now``, returning effects."""
