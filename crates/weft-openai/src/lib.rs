//! weft-openai
