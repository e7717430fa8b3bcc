"""Tests of panel screening (cds/screening), one module per module."""
