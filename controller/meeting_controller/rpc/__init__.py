"""gRPC adapters: the MC's client of the Global Controller and its MeetingControllerService."""
