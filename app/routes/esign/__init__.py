"""Pages of the esign area: signing dialogs and registered devices."""
