"""One module per robot (see simfarm.robots.registry): each registers itself with @register_robot."""
