"""Officers: invitations, enrolment, and the alerts each one wants."""
