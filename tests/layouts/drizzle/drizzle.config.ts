export default { dialect: 'postgresql', schema: './src/schema.ts', out: './drizzle' };
