"""Symptom self-reports: the questionnaire's answers, triage from a rules file, consent,
alerts to the RT/RW coordinator and the puskesmas, check-ins, figures."""
