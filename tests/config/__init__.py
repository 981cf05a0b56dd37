"""Tests of the MC settings (MC_* variables) and of the logging set-up."""
