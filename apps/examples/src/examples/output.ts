/** Where an example prints its lines (the console in the demo, an array in tests). */
export type Output = (line: string) => void;
