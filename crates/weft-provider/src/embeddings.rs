//! What every provider's embeddings client does with its batches' answers: gather them into
//! one [`Embeddings`] in the inputs' order, and check that every vector has the size asked for.

use weft_core::{EmbeddingError, Embeddings, Usage};

/// An empty answer of `model` with room for `inputs` vectors, for [`add_batch`] to fill.
pub fn answer(model: &str, inputs: usize) -> Embeddings {
    Embeddings { vectors: Vec::with_capacity(inputs), model: model.to_string(), usage: None }
}

/// Adds one batch's vectors (in order) and token usage to `answer`; the usage of the batches
/// is summed, and stays `None` while no batch reports any.
pub fn add_batch(answer: &mut Embeddings, vectors: Vec<Vec<f32>>, usage: Option<Usage>) {
    if let Some(usage) = usage {
        *answer.usage.get_or_insert_with(Usage::default) += usage;
    }
    answer.vectors.extend(vectors);
}

/// Fails with [`EmbeddingError::DimensionMismatch`] of `provider`, naming the first vector
/// whose size is not the one `asked` for (else that of the first vector): a server that cannot
/// shorten its vectors ignores `dimensions`.
pub fn check_dimensions(
    answer: &Embeddings,
    asked: Option<u32>,
    provider: &str,
) -> Result<(), EmbeddingError> {
    let Some(expected) = asked.map(|size| size as usize).or_else(|| answer.dimensions()) else {
        return Ok(());
    };
    match answer.vectors.iter().enumerate().find(|(_, vector)| vector.len() != expected) {
        Some((index, vector)) => Err(EmbeddingError::DimensionMismatch {
            provider: provider.to_string(),
            index,
            expected,
            actual: vector.len(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_gathered_in_order_and_sizes_checked() {
        let mut gathered = answer("m", 3);
        add_batch(&mut gathered, vec![vec![1.0, 2.0]], None);
        assert_eq!(gathered.usage, None);
        add_batch(&mut gathered, vec![vec![3.0, 4.0], vec![5.0]], Some(Usage::new(7, 0)));
        add_batch(&mut gathered, Vec::new(), Some(Usage::new(2, 0)));
        assert_eq!(gathered.vectors.len(), 3);
        assert_eq!(gathered.usage.map(|usage| usage.input_tokens), Some(9));
        let err = check_dimensions(&gathered, None, "p").unwrap_err();
        assert!(
            matches!(err, EmbeddingError::DimensionMismatch { index: 2, expected: 2, actual: 1, .. }),
            "{err}"
        );
        let err = check_dimensions(&gathered, Some(1), "p").unwrap_err();
        assert!(
            matches!(err, EmbeddingError::DimensionMismatch { index: 0, expected: 1, actual: 2, .. }),
            "{err}"
        );
        gathered.vectors.pop();
        assert!(check_dimensions(&gathered, None, "p").is_ok());
        assert!(check_dimensions(&answer("m", 0), Some(3), "p").is_ok());
    }
}
