"""Team status: snapshots from every member's machine and one page showing who is out of step."""
