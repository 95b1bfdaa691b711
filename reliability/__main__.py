"""`python -m reliability`."""

from reliability.suite import main

main()
