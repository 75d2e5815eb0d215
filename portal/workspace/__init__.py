"""The district workspace: the home page every district user starts from.

It sits in the web shell, above every domain: the domains register their navigation
items and home panels in `portal.ui`, and the workspace lays them out.
"""
