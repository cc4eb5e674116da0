"""Transfer learning of the MobileNetV2 mask classifier (needs TensorFlow; inference does not)."""
