"""Example stacks, one folder a scenario; ``main.py`` synthesizes every one of them."""
