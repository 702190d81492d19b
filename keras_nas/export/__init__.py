"""The export stage: model formats, and converting and running models in
ONNX Runtime and LiteRT."""
