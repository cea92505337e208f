/**
 * Gifts as TikTok prices them: id, name, coins (diamonds) per gift, and whether a viewer sends
 * them in streaks (type 1) or one at a time (type 2). The demo stream and the settings page's test
 * events take their gifts from here, so a test Lion is worth what a real one is.
 */

export interface CatalogueGift {
  id: number;
  name: string;
  diamondCount: number;
  /** 1 = streakable, 2 = a single big gift. */
  type: 1 | 2;
}

export const GIFT_CATALOGUE: readonly CatalogueGift[] = [
  { id: 5655, name: 'Rose', diamondCount: 1, type: 1 },
  { id: 5269, name: 'TikTok', diamondCount: 1, type: 1 },
  { id: 5487, name: 'Finger Heart', diamondCount: 5, type: 1 },
  { id: 5658, name: 'Perfume', diamondCount: 20, type: 1 },
  { id: 5879, name: 'Doughnut', diamondCount: 30, type: 1 },
  { id: 5660, name: 'Hand Heart', diamondCount: 100, type: 1 },
  { id: 11046, name: 'Galaxy', diamondCount: 1000, type: 2 },
  { id: 6369, name: 'Lion', diamondCount: 29999, type: 2 },
  { id: 7934, name: 'TikTok Universe', diamondCount: 44999, type: 2 },
];

/** The gift of that name (any case), if the catalogue has it. */
export function catalogueGift(name: string): CatalogueGift | undefined {
  const wanted = name.trim().toLowerCase();
  return GIFT_CATALOGUE.find((gift) => gift.name.toLowerCase() === wanted);
}
