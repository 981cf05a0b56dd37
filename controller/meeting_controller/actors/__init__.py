"""The asyncio actor core: controller -> meetings -> connections.

One :class:`~meeting_controller.actors.controller.MeetingControllerActor` per process
supervises one :class:`~meeting_controller.actors.meeting.MeetingActor` per meeting, which
supervises one :class:`~meeting_controller.actors.connection.ConnectionActor` per participant
connection. Each actor is a task that owns its state and a bounded mailbox; everything else
talks to it through its *handle* (the task/handle separation of tokio-style actors). State
changes only by messages; reads that must not wait (health checks) use a cached snapshot.

Shutdown follows a cancellation hierarchy (root -> meetings -> connections) with the deadlines
of the specification: see :mod:`meeting_controller.actors.deadlines`.
"""
