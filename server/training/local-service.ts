// Placeholder: the training service is being written; see issue 3.
import type { TrainingEvents, TrainingService } from './service';

export function createTrainingService(_events: TrainingEvents): TrainingService {
  throw new Error('training service not written yet');
}
