"""Broadcasting: notices (decisions and fan-out), the outbox sender, schedules, the scheduler,
and progress reports. Channels add a transport; handlers call ``notices`` as a service."""
