"""Running the nightly pipeline: run lock, dbt, write-audit-publish, the Prefect flow and its commands.

Importing this package is cheap; dbt and Prefect are imported inside the functions that need them.
"""

from __future__ import annotations
