"""The self-assessment survey: questionnaires, responses, answers, versions, export."""
