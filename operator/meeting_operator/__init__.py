"""The kopf operator that reconciles ``MeetingController`` resources into MC pods.

Deliberately not called ``operator``: that name belongs to the standard library.
"""
