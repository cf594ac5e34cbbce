"""Online learning: per-event statistics, recent histories, the learner thread and the recommendation service."""
