//! Scratch spaces kept between calls: the interpreter allocates nothing once its scratch
//! is warm (STYLE.md habit 5), so a `Program` shared by Python threads keeps the scratches
//! it made and lends one to each evaluation (each rayon worker of `evaluate_many`) rather
//! than growing a fresh one every call.

use std::sync::Mutex;

use fastiam::eval::{Evaluator, Scratch};

#[derive(Default)]
pub struct ScratchPool(Mutex<Vec<Scratch>>);

/// A scratch lent by the pool; it goes back when dropped.
pub struct Lent<'a> {
    pool: &'a ScratchPool,
    scratch: Option<Scratch>,
}

impl ScratchPool {
    pub fn lend<'a>(&'a self, evaluator: &Evaluator<'_>) -> Lent<'a> {
        // A poisoned lock only means a panic while the list was held: the scratches
        // themselves are plain buffers, so the list is still usable.
        let taken = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop();
        Lent {
            pool: self,
            scratch: Some(taken.unwrap_or_else(|| evaluator.scratch())),
        }
    }
}

impl std::ops::Deref for Lent<'_> {
    type Target = Scratch;
    fn deref(&self) -> &Scratch {
        self.scratch.as_ref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut Scratch {
        self.scratch.as_mut().expect("present until dropped")
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.scratch.take() {
            self.pool
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(s);
        }
    }
}
