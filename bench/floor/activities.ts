export const FLOOR_ACTIVITY_QUEUE = 'bench-floor-activities';

export const floorActivities = {
  async nothing(): Promise<void> {},
};
