"""Generated protobuf and gRPC code (`make proto`); edit proto/, never these files."""
