"""The reference Global Controller (``meeting-controller gc``).

A small, honest counterpart for the MC fleet in demos, tests and local development; not a
production GC. All state lives in memory. Layers, from pure to I/O:

* ``registry`` (the fleet), ``directory`` (meeting -> MC), ``placement`` (ranking): pure,
  ``now`` passed in;
* ``placer`` (assignments over gRPC to MCs), ``service`` (the ``GlobalControllerService`` MCs
  call), ``http_api`` (the JSON API clients call): the I/O edges;
* ``server`` wires them together with the sweeper, ``cli`` parses flags and handles signals.
"""
