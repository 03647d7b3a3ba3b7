"""The local device bridge (scales and label printers on a workstation); see DESIGN.md §8."""
