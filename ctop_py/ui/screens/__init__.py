"""The app's screens: containers (default), one container, namespaces, help."""
